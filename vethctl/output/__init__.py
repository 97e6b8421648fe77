"""Results to the user: text (for people), json (the contract's documents), live (packets and ping lines as
they happen). Each writes to a stream it is given."""
