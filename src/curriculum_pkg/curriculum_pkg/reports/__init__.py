"""What people read about a grading run: escaping (`safe_text`) and templates (`templating`).

Every student-controlled string (log tails, node and package names, file names, the values a
submission reports, its folder name) reaches a report through here, escaped for the format it
lands in. See DESIGN.md, "Threat model".
"""
