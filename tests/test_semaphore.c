/* test_semaphore.c — placeholder, being written. */
#include <criterion/criterion.h>
