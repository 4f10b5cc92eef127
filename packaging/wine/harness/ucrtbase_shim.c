/* Test-harness DLL for building and running the Windows app under Wine 8; never bundled.
 *
 * Wine 8.0's ucrtbase.dll leaves the C99 complex functions (cabs, cexp, crealf, ...), the MSVC
 * complex helpers (_FCbuild, _Cmulcc, ...) and feholdexcept as stubs that abort the process when
 * called; NumPy calls them. This DLL is loaded as ucrtbase.dll (WINEDLLOVERRIDES=ucrtbase=n,b):
 * it implements those functions with mingw-w64's libm and forwards every other export to Wine's own
 * ucrtbase, renamed ucrtwine.dll (the .def file is generated from that DLL's export table by
 * build_harness.sh). Windows itself has all of them: the installer never carries this file.
 *
 * The MSVC ABI: _Dcomplex and _Lcomplex (long double is double) are 16-byte structs, passed by
 * reference and returned through a hidden pointer; _Fcomplex is 8 bytes, passed and returned in a
 * general register. Plain structs give exactly that with mingw-w64's gcc.
 */
#include <complex.h>
#include <math.h>
#include <windows.h>

typedef struct { double re, im; } Dcomplex; /* _Dcomplex and _Lcomplex */
typedef struct { float re, im; } Fcomplex;  /* _Fcomplex */

static double complex to_c(Dcomplex z) { return __builtin_complex(z.re, z.im); }
static double complex fto_c(Fcomplex z) { return __builtin_complex((double)z.re, (double)z.im); }
static Dcomplex from_c(double complex z) { Dcomplex r = {creal(z), cimag(z)}; return r; }
static Fcomplex ffrom_c(double complex z) { Fcomplex r = {(float)creal(z), (float)cimag(z)}; return r; }

/* One complex -> complex function in its double, float and long double (= double) forms. */
#define UNARY(name)                                                                   \
    Dcomplex shim_##name(Dcomplex z) { return from_c(name(to_c(z))); }                \
    Fcomplex shim_##name##f(Fcomplex z) { return ffrom_c(name(fto_c(z))); }           \
    Dcomplex shim_##name##l(Dcomplex z) { return from_c(name(to_c(z))); }

UNARY(cacos) UNARY(cacosh) UNARY(casin) UNARY(casinh) UNARY(catan) UNARY(catanh)
UNARY(ccos) UNARY(ccosh) UNARY(cexp) UNARY(clog) UNARY(cproj) UNARY(csin) UNARY(csinh)
UNARY(csqrt) UNARY(ctan) UNARY(ctanh) UNARY(conj)

static double complex clog10_c(double complex z) { return clog(z) / log(10.0); }
Dcomplex shim_clog10(Dcomplex z) { return from_c(clog10_c(to_c(z))); }
Fcomplex shim_clog10f(Fcomplex z) { return ffrom_c(clog10_c(fto_c(z))); }
Dcomplex shim_clog10l(Dcomplex z) { return from_c(clog10_c(to_c(z))); }

Dcomplex shim_cpow(Dcomplex x, Dcomplex y) { return from_c(cpow(to_c(x), to_c(y))); }
Fcomplex shim_cpowf(Fcomplex x, Fcomplex y) { return ffrom_c(cpow(fto_c(x), fto_c(y))); }
Dcomplex shim_cpowl(Dcomplex x, Dcomplex y) { return from_c(cpow(to_c(x), to_c(y))); }

/* Complex -> real. */
double shim_cabs(Dcomplex z) { return hypot(z.re, z.im); }
float shim_cabsf(Fcomplex z) { return (float)hypot(z.re, z.im); }
double shim_cabsl(Dcomplex z) { return hypot(z.re, z.im); }
double shim_carg(Dcomplex z) { return atan2(z.im, z.re); }
float shim_cargf(Fcomplex z) { return (float)atan2(z.im, z.re); }
double shim_cargl(Dcomplex z) { return atan2(z.im, z.re); }
double shim_cimag(Dcomplex z) { return z.im; }
float shim_cimagf(Fcomplex z) { return z.im; }
double shim_cimagl(Dcomplex z) { return z.im; }
float shim_crealf(Fcomplex z) { return z.re; }
double shim_creall(Dcomplex z) { return z.re; }
double shim_norm(Dcomplex z) { return z.re * z.re + z.im * z.im; }
float shim_normf(Fcomplex z) { return z.re * z.re + z.im * z.im; }
double shim_norml(Dcomplex z) { return z.re * z.re + z.im * z.im; }

/* MSVC's helpers for building and multiplying complex numbers (there is no complex operator). */
Fcomplex shim__FCbuild(float re, float im) { Fcomplex r = {re, im}; return r; }
Dcomplex shim__LCbuild(double re, double im) { Dcomplex r = {re, im}; return r; }
Dcomplex shim__Cmulcc(Dcomplex x, Dcomplex y) { return from_c(to_c(x) * to_c(y)); }
Dcomplex shim__Cmulcr(Dcomplex x, double y) { Dcomplex r = {x.re * y, x.im * y}; return r; }
Fcomplex shim__FCmulcc(Fcomplex x, Fcomplex y) { return ffrom_c(fto_c(x) * fto_c(y)); }
Fcomplex shim__FCmulcr(Fcomplex x, float y) { Fcomplex r = {x.re * y, x.im * y}; return r; }
Dcomplex shim__LCmulcc(Dcomplex x, Dcomplex y) { return from_c(to_c(x) * to_c(y)); }
Dcomplex shim__LCmulcr(Dcomplex x, double y) { Dcomplex r = {x.re * y, x.im * y}; return r; }

/* feholdexcept: save the environment, clear the status flags, mask every exception (MSVC's
 * fenv_t is {control word, status word}); the rest of fenv is Wine's, called through ucrtwine. */
typedef struct { unsigned long ctl, stat; } msvc_fenv;
typedef int (__cdecl *fenv_fn)(msvc_fenv *);
typedef int (__cdecl *flags_fn)(int);
typedef unsigned int (__cdecl *controlfp_fn)(unsigned int, unsigned int);

static FARPROC wine_crt(const char *name) { return GetProcAddress(GetModuleHandleA("ucrtwine.dll"), name); }

int shim_feholdexcept(msvc_fenv *env) {
    fenv_fn fegetenv_wine = (fenv_fn)wine_crt("fegetenv");
    flags_fn feclearexcept_wine = (flags_fn)wine_crt("feclearexcept");
    controlfp_fn controlfp_wine = (controlfp_fn)wine_crt("_controlfp");
    if (!fegetenv_wine || !feclearexcept_wine || !controlfp_wine || fegetenv_wine(env) != 0) return 1;
    feclearexcept_wine(0x3f);                  /* FE_ALL_EXCEPT */
    controlfp_wine(0x8001F, 0x8001F);          /* _MCW_EM: all exceptions masked (non-stop) */
    return 0;
}
