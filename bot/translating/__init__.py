"""Translation as a step of moderation: proposals in another language, translated by people."""
