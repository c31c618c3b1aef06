/* condition.c — placeholder, being written. */
