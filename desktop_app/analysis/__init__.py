"""Qt-free analysis of a workspace's embeddings: retrieval, analogies, WordNet agreement, maps."""
