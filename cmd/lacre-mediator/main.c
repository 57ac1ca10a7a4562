/* main.c - lacre-mediator (placeholder until its module lands). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "lacre-mediator: not available in this build\n");
	return 1;
}
