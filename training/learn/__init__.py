"""Training and scoring: the training loop and its callbacks, losses, metrics, mixed precision and distribution
strategies; evaluation and comparison of trained models."""
