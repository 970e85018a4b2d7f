"""Where passages live: the Store protocol; the core both stores share (the write skeleton,
lexical statistics and BM25 in core.py and lexical.py); the local SQLite+FAISS store, the
Milvus store, opening the configured one, and SearchIndex (a store with its embedder and
tokenizer).
"""
