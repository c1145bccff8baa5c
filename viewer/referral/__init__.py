"""Referral layer: maps, skin fields, regions and the reverse lookup (no Qt)."""
