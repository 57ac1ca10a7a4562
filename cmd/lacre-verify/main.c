/* main.c - lacre-verify (placeholder until its module lands). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "lacre-verify: not available in this build\n");
	return 1;
}
