// SPDX-License-Identifier: MIT
/* A function in a shared library for the victim: built twice, linked and dlopened. */
__attribute__((noipa)) int lib_work(int x)
{
	return x + 1000;
}
