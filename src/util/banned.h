/*
 * banned.h — functions Eider's code must not call, as in git: each is a bug waiting
 * (no bounds, or hidden global state). Use eider__buf, snprintf or strtok_r.
 */
#ifndef EIDER_BANNED_H
#define EIDER_BANNED_H

#define EIDER__BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) EIDER__BANNED(strcpy)
#undef strcat
#define strcat(x, y) EIDER__BANNED(strcat)
#undef sprintf
#define sprintf(...) EIDER__BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) EIDER__BANNED(vsprintf)
#undef strtok
#define strtok(x, y) EIDER__BANNED(strtok)
#undef gets
#define gets(x) EIDER__BANNED(gets)

#endif
