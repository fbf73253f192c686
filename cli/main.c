/*
 * main.c — the `eider` binary: eider_main() with definitions from -f or -l.
 */
#include "eider.h"

int main(int argc, char **argv)
{
    return eider_main(NULL, argc, argv);
}
