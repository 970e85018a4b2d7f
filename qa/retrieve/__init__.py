"""Finding passages: dense, BM25 and hybrid search with rank fusion.
"""
