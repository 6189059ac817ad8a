"""docingest: the code shared by the pipeline's functions (shipped as a Lambda layer)."""
