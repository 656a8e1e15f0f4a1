"""lossgrade: auto-graded exercises and myth-buster quizzes for PyTorch loss functions."""

__version__ = "0.1.0"
