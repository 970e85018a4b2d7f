"""Written answers: the OpenAI-compatible client, the local llama.cpp models, the per-sentence
verifier and the generative answer built from verified sentences.
"""
