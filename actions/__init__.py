"""Rasa SDK custom actions: thin adapters that ask the Rasa-free core (``crs``) for the answer.

The action server loads this package (``rasa run actions --actions actions``); nothing else
belongs here.
"""
