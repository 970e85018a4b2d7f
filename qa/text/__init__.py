"""Text tools every layer shares: normalisation and script conversion, character n-grams, the
jieba tokenizer.
"""
