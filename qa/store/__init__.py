"""Where passages live: the Store protocol and shared BM25 scoring, the local SQLite+FAISS
store, the Milvus store, opening the configured one, and SearchIndex (a store with its
embedder and tokenizer).
"""
