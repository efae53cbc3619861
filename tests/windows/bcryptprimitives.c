/*
 * A stand-in for the one function of bcryptprimitives.dll that Rust's
 * standard library imports (ProcessPrng), for the tests under Wine 8, which
 * lacks the DLL (a Windows build then fails to start with c0000135). Real
 * Windows has it: this is never shipped. It fills the buffer from advapi32's
 * RtlGenRandom (exported as SystemFunction036), a piece at a time.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE out, SIZE_T length)
{
    const SIZE_T most = 1u << 30;
    while (length > 0) {
        ULONG piece = (ULONG)(length < most ? length : most);
        if (!SystemFunction036(out, piece))
            return FALSE;
        out += piece;
        length -= piece;
    }
    return TRUE;
}
