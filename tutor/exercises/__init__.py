"""Exercises: the learner writes a step's code at the tutor's prompt, and checks look at what it did."""
