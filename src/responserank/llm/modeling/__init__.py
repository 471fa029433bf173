"""The model layer, shared by training, evaluation and the server: builders, loading, padding, the forward pass of every batch layout."""
