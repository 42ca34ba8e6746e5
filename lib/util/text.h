/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * text.h - text from users and peers shown in one-line messages.
 */
#ifndef NVMF_UTIL_TEXT_H
#define NVMF_UTIL_TEXT_H

/*
 * Replaces every control character of s (newline, tab, DEL ...) with '?',
 * in place: a message quoting what it was given stays one line.
 */
void text_one_line(char *s);

#endif /* NVMF_UTIL_TEXT_H */
