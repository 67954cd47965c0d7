"""An intake's life: invitation links, saved drafts, the frozen submission, its states, and the demo patient."""
