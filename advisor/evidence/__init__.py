"""Evidence of what things really cost: import times, profiles, call graphs."""
