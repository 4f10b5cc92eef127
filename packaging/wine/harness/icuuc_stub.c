/* Test-harness DLL for running the Windows app under Wine 8; never bundled.
 *
 * Qt6Core.dll imports ~20 ucnv_* functions from icuuc.dll, which Windows 10 and 11 ship in
 * system32 and Wine does not, so Qt does not load at all. Qt only uses them for text codecs other
 * than UTF-8/16 and Latin-1 (QStringConverter by name), which the app never asks for. This DLL
 * gives Qt the symbols: no converter is ever available (ucnv_open fails with
 * U_FILE_ACCESS_ERROR, ucnv_countAvailable is 0), exactly what Qt handles for a missing codec.
 * The x64 calling convention lets every function ignore the arguments it does not use.
 */
#include <stddef.h>
#include <stdint.h>

typedef int UErrorCode;
#define U_FILE_ACCESS_ERROR 4
#define U_UNSUPPORTED_ERROR 16

static void fail(UErrorCode *error, UErrorCode code) {
    if (error && *error <= 0) *error = code;
}

void *ucnv_open(const char *name, UErrorCode *error) { (void)name; fail(error, U_FILE_ACCESS_ERROR); return NULL; }
void ucnv_close(void *converter) { (void)converter; }
void ucnv_reset(void *converter) { (void)converter; }
int8_t ucnv_getMaxCharSize(const void *converter) { (void)converter; return 1; }
const char *ucnv_getName(const void *converter, UErrorCode *error) {
    (void)converter; fail(error, U_UNSUPPORTED_ERROR); return "";
}
int32_t ucnv_countAvailable(void) { return 0; }
const char *ucnv_getAvailableName(int32_t n) { (void)n; return NULL; }
const char *ucnv_getStandardName(const char *name, const char *standard, UErrorCode *error) {
    (void)name; (void)standard; fail(error, U_UNSUPPORTED_ERROR); return NULL;
}
int32_t ucnv_toUCountPending(const void *converter, UErrorCode *error) { (void)converter; (void)error; return 0; }
int32_t ucnv_fromUCountPending(const void *converter, UErrorCode *error) { (void)converter; (void)error; return 0; }

void ucnv_getToUCallBack(const void *converter, void **action, const void **context) {
    (void)converter; if (action) *action = NULL; if (context) *context = NULL;
}
void ucnv_getFromUCallBack(const void *converter, void **action, const void **context) {
    (void)converter; if (action) *action = NULL; if (context) *context = NULL;
}
void ucnv_setToUCallBack(void *converter, void *action, const void *context, void **old_action,
                         const void **old_context, UErrorCode *error) {
    (void)converter; (void)action; (void)context; (void)error;
    if (old_action) *old_action = NULL; if (old_context) *old_context = NULL;
}
void ucnv_setFromUCallBack(void *converter, void *action, const void *context, void **old_action,
                           const void **old_context, UErrorCode *error) {
    (void)converter; (void)action; (void)context; (void)error;
    if (old_action) *old_action = NULL; if (old_context) *old_context = NULL;
}
void ucnv_fromUnicode(void *converter, char **target, const char *target_limit, const uint16_t **source,
                      const uint16_t *source_limit, int32_t *offsets, int8_t flush, UErrorCode *error) {
    (void)converter; (void)target; (void)target_limit; (void)source; (void)source_limit; (void)offsets; (void)flush;
    fail(error, U_UNSUPPORTED_ERROR);
}
void ucnv_toUnicode(void *converter, uint16_t **target, const uint16_t *target_limit, const char **source,
                    const char *source_limit, int32_t *offsets, int8_t flush, UErrorCode *error) {
    (void)converter; (void)target; (void)target_limit; (void)source; (void)source_limit; (void)offsets; (void)flush;
    fail(error, U_UNSUPPORTED_ERROR);
}
void ucnv_cbToUWriteUChars(void *args, const uint16_t *source, int32_t length, int32_t offset, UErrorCode *error) {
    (void)args; (void)source; (void)length; (void)offset; fail(error, U_UNSUPPORTED_ERROR);
}
void ucnv_cbFromUWriteUChars(void *args, const uint16_t **source, const uint16_t *source_limit, int32_t offset,
                             UErrorCode *error) {
    (void)args; (void)source; (void)source_limit; (void)offset; fail(error, U_UNSUPPORTED_ERROR);
}
/* The two stock callbacks Qt installs (substitute unconvertible characters). */
void UCNV_TO_U_CALLBACK_SUBSTITUTE(const void *context, void *args, const char *units, int32_t length,
                                   int reason, UErrorCode *error) {
    (void)context; (void)args; (void)units; (void)length; (void)reason; (void)error;
}
void UCNV_FROM_U_CALLBACK_SUBSTITUTE(const void *context, void *args, const uint16_t *units, int32_t length,
                                     int32_t code_point, int reason, UErrorCode *error) {
    (void)context; (void)args; (void)units; (void)length; (void)code_point; (void)reason; (void)error;
}
