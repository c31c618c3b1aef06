/* test_stack.c — placeholder, being written. */
#include <criterion/criterion.h>
