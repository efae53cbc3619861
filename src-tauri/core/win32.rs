//! Small helpers the Windows halves share: UTF-16 strings for the Win32
//! calls, whose process is at the other end of something (a user's
//! security identifier, as text), and the user's registry.
//!
//! Compiled on Windows only; every `unsafe` block here calls one Win32
//! function with buffers this file owns.

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{FromRawHandle, OwnedHandle};

use windows_sys::Win32::Foundation::{LocalFree, ERROR_FILE_NOT_FOUND, ERROR_SUCCESS, HANDLE};
use windows_sys::Win32::Security::Authorization::ConvertSidToStringSidW;
use windows_sys::Win32::Security::{GetTokenInformation, TokenUser, TOKEN_QUERY, TOKEN_USER};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegCreateKeyExW, RegDeleteValueW, RegNotifyChangeKeyValue, RegOpenKeyExW,
    RegQueryValueExW, RegSetValueExW, HKEY, HKEY_CURRENT_USER, KEY_SET_VALUE,
    REG_NOTIFY_CHANGE_LAST_SET, REG_OPTION_NON_VOLATILE, REG_SAM_FLAGS, REG_SZ,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, OpenProcess, OpenProcessToken, PROCESS_QUERY_LIMITED_INFORMATION,
};

/// `text` as a NUL-terminated UTF-16 string.
pub fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The NUL-terminated UTF-16 string at `text`, read up to its end.
///
/// # Safety
/// `text` must point at a NUL-terminated UTF-16 string.
pub unsafe fn from_wide(text: *const u16) -> String {
    let mut len = 0;
    // SAFETY: the caller promises a terminating NUL.
    while unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` units were just read.
    String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(text, len) })
}

/// The user this process runs as ("S-1-5-21-…").
pub fn current_user_sid() -> io::Result<String> {
    // SAFETY: the pseudo-handle of this process needs no closing.
    token_user_sid(unsafe { GetCurrentProcess() })
}

/// The user process `pid` runs as.
pub fn process_user_sid(pid: u32) -> io::Result<String> {
    // SAFETY: a plain call; the handle is owned (and closed) below.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a handle just opened, owned here alone.
    let process = unsafe { OwnedHandle::from_raw_handle(process) };
    token_user_sid(std::os::windows::io::AsRawHandle::as_raw_handle(&process))
}

fn token_user_sid(process: HANDLE) -> io::Result<String> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: `token` receives a handle owned (and closed) below.
    if unsafe { OpenProcessToken(process, TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a handle just opened, owned here alone.
    let token = unsafe { OwnedHandle::from_raw_handle(token) };
    let token = std::os::windows::io::AsRawHandle::as_raw_handle(&token);
    let mut needed = 0u32;
    // SAFETY: asks only for the size (no buffer).
    unsafe { GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut needed) };
    if needed == 0 {
        return Err(io::Error::last_os_error());
    }
    // u64s, so that the TOKEN_USER at its start is aligned.
    let mut buffer = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: the buffer holds `needed` bytes.
    let done = unsafe {
        GetTokenInformation(
            token,
            TokenUser,
            buffer.as_mut_ptr().cast::<c_void>(),
            needed,
            &mut needed,
        )
    };
    if done == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call filled the buffer with a TOKEN_USER.
    let sid = unsafe { (*buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: `sid` points into `buffer`, alive here; `text` is freed below.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call returned a NUL-terminated string.
    let sid = unsafe { from_wide(text) };
    // SAFETY: allocated by ConvertSidToStringSidW with LocalAlloc.
    unsafe { LocalFree(text.cast()) };
    Ok(sid)
}

/// A key of the user's registry (`HKEY_CURRENT_USER\…`), closed on drop:
/// the one place the Windows halves read and write the registry.
pub struct UserKey(HKEY);

impl UserKey {
    /// Open `path` for `access` (`KEY_QUERY_VALUE`, `KEY_SET_VALUE`,
    /// `KEY_NOTIFY`, …).
    pub fn open(path: &str, access: REG_SAM_FLAGS) -> io::Result<UserKey> {
        let path = wide(path);
        let mut key: HKEY = std::ptr::null_mut();
        // SAFETY: a NUL-terminated path; the handle is closed on drop.
        let status =
            unsafe { RegOpenKeyExW(HKEY_CURRENT_USER, path.as_ptr(), 0, access, &mut key) };
        status_result(status)?;
        Ok(UserKey(key))
    }

    /// Open `path` to set values, made when missing.
    pub fn create(path: &str) -> io::Result<UserKey> {
        let path = wide(path);
        let mut key: HKEY = std::ptr::null_mut();
        // SAFETY: as in `open`.
        let status = unsafe {
            RegCreateKeyExW(
                HKEY_CURRENT_USER,
                path.as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_SET_VALUE,
                std::ptr::null(),
                &mut key,
                std::ptr::null_mut(),
            )
        };
        status_result(status)?;
        Ok(UserKey(key))
    }

    /// The raw bytes of value `name`, `None` when there is none.
    fn read(&self, name: &str, buffer: &mut [u8]) -> io::Result<Option<usize>> {
        let name = wide(name);
        let mut size = buffer.len() as u32;
        // SAFETY: the buffer holds `size` bytes.
        let status = unsafe {
            RegQueryValueExW(
                self.0,
                name.as_ptr(),
                std::ptr::null(),
                std::ptr::null_mut(),
                buffer.as_mut_ptr(),
                &mut size,
            )
        };
        match status {
            ERROR_FILE_NOT_FOUND => Ok(None),
            status => status_result(status).map(|()| Some(size as usize)),
        }
    }

    /// A string value (up to 4 KiB), `None` when there is none.
    pub fn string(&self, name: &str) -> io::Result<Option<String>> {
        let mut buffer = vec![0u8; 4096];
        let Some(size) = self.read(name, &mut buffer)? else {
            return Ok(None);
        };
        let units: Vec<u16> = buffer[..size.min(buffer.len())]
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        Ok(Some(
            String::from_utf16_lossy(&units)
                .trim_end_matches('\0')
                .to_string(),
        ))
    }

    /// A DWORD value, `None` when there is none.
    pub fn dword(&self, name: &str) -> io::Result<Option<u32>> {
        let mut buffer = [0u8; 4];
        Ok(self
            .read(name, &mut buffer)?
            .map(|_| u32::from_le_bytes(buffer)))
    }

    /// Set a string value.
    pub fn set_string(&self, name: &str, value: &str) -> io::Result<()> {
        let (name, value) = (wide(name), wide(value));
        // SAFETY: `value` is `value.len() * 2` bytes, NUL included.
        let status = unsafe {
            RegSetValueExW(
                self.0,
                name.as_ptr(),
                0,
                REG_SZ,
                value.as_ptr().cast(),
                (value.len() * 2) as u32,
            )
        };
        status_result(status)
    }

    /// Remove value `name`; one already gone is no failure.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        let name = wide(name);
        // SAFETY: a NUL-terminated name in a key we hold.
        match unsafe { RegDeleteValueW(self.0, name.as_ptr()) } {
            ERROR_FILE_NOT_FOUND => Ok(()),
            status => status_result(status),
        }
    }

    /// Block until a value of the key changes.
    pub fn wait_for_change(&self) -> io::Result<()> {
        // SAFETY: a synchronous wait on a key we hold.
        let status = unsafe {
            RegNotifyChangeKeyValue(
                self.0,
                0,
                REG_NOTIFY_CHANGE_LAST_SET,
                std::ptr::null_mut(),
                0,
            )
        };
        status_result(status)
    }
}

impl Drop for UserKey {
    fn drop(&mut self) {
        // SAFETY: the key this value opened.
        unsafe { RegCloseKey(self.0) };
    }
}

fn status_result(status: u32) -> io::Result<()> {
    if status == ERROR_SUCCESS {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(status as i32))
    }
}
