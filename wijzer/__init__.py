"""wijzer: the beschikbaarheidswijzer web app."""
