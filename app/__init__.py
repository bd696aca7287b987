"""minsheng — 民生实事项目人大代表票决制, run from proposal to satisfaction score."""

__version__ = "0.1.0"
