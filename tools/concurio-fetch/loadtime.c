/* SPDX-License-Identifier: Apache-2.0 */
/* What the tool turns off before main: work that libraries do when they are loaded and
 * that no run of ours uses. */

/* GnuTLS comes in with libcurl's LDAP and RTMP support (Debian's libcurl does its TLS
 * with OpenSSL; we allow only http and https) and initializes itself when loaded: its
 * priorities, its ciphers, p11-kit's modules, 0.7-0.9 MiB of RSS for nothing. This is
 * its documented way out (GNUTLS_SKIP_GLOBAL_INIT in gnutls.h): the library asks this
 * function, weak in libgnutls and exported from our executable by tools/CMakeLists.txt.
 * A user of GnuTLS still calls gnutls_global_init(), which works as ever. */
int _gnutls_global_init_skip(void);

int _gnutls_global_init_skip(void)
{
    return 1;
}
