"""Evaluation of the scribe on public clinical-conversation data (../shared/datasets), without Django models.

speech.py: word error rate, medical-term error rate, speaker attribution and real-time factor of the speech
engine on audio synthesised from PriMock57 dev transcripts.
"""
