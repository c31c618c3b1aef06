/* semaphore.c — placeholder, being written. */
