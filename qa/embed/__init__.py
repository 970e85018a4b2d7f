"""Vectors: the Embedder protocol and its backends (sentence-transformers, ONNX, the test hash
embedder), device choice, model fetch and verification, the vector cache and the request
batcher.
"""
