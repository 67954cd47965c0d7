"""Read models for the clinic's pages: the worklist, one intake's details, and its history."""
