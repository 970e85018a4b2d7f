"""A file becomes passages: readers (PDF, HTML, DOCX, Markdown, text, OCR), cleaning
(boilerplate, flags), splitting, duplicate detection, and the ingest pipeline that writes
them to a store.
"""
