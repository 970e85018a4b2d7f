"""What users run: the command line, the Gradio page, and access control for serving it.
"""
