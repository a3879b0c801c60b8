"""Information governance: who may see, keep or send footage, and proof of what was done."""
