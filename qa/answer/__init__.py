"""A question becomes a cited extractive answer: question analysis and constraints, sentence
evidence and the calibrated found/not-found decision, the answer strategies, composition
with citations, evaluation.
"""
