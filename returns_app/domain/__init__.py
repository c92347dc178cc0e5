"""Pure rules: money, states, payout details, masking, the clock and the calendar of banking
days. Nothing here imports Flask or the database."""
