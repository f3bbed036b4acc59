"""aml-tutor: a terminal tutor for the Azure Machine Learning taxi-fare course."""

__version__ = "0.1.0"
