; The SSE Tray installer for Windows, built on Linux by
; scripts/package-windows.sh with Debian's makensis:
;   makensis -DVERSION=0.1.0 -DBINARIES=<folder of the .exe files> -DOUT=<setup.exe> ssetray.nsi
;
; A per-user install (no administrator): the program in
; %LOCALAPPDATA%\Programs\SSE Tray, a Start-menu shortcut that carries the
; app's AppUserModelID (so that Windows shows its toasts and sends their
; clicks to it), the AppUserModelID named in the user's registry, an entry
; in Apps & features, and an uninstaller. The WebView2 runtime the window
; needs is fetched and installed when it is missing (Windows 11 has it).
; The user's settings and history (%APPDATA%\ssetray,
; %LOCALAPPDATA%\ssetray) are kept by the uninstaller.

Unicode true
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel user

!ifndef VERSION
  !error "VERSION is not set (-DVERSION=...)"
!endif
!ifndef BINARIES
  !error "BINARIES is not set (-DBINARIES=<folder with ssetray.exe>)"
!endif
!ifndef OUT
  !define OUT "SSE-Tray-${VERSION}-setup.exe"
!endif

!define APP "SSE Tray"
!define AUMID "SSETray.SSETray"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\SSETray"
!define AUMID_KEY "Software\Classes\AppUserModelId\${AUMID}"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
; The WebView2 runtime's client key, and Microsoft's evergreen bootstrapper.
!define WEBVIEW2_KEY "SOFTWARE\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WEBVIEW2_BOOTSTRAPPER "https://go.microsoft.com/fwlink/p/?LinkId=2124703"

Name "${APP}"
OutFile "${OUT}"
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
Icon "${BINARIES}\icon.ico"
UninstallIcon "${BINARIES}\icon.ico"
ShowInstDetails show
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "FileDescription" "${APP} installer"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "MIT OR Apache-2.0"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

; Give the shortcut at $0 the AppUserModelID: IShellLinkW loaded through
; IPersistFile, its IPropertyStore given System.AppUserModel.ID (a
; VT_LPWSTR), committed and saved. $0 says "ok" or what failed.
Function SetShortcutAppId
  Exch $0
  Push $1
  Push $2
  Push $3
  Push $4
  Push $5
  Push $6
  StrCpy $6 $0
  StrCpy $0 "ok"
  ; CLSID_ShellLink, IID_IPersistFile
  System::Call "ole32::CoCreateInstance(g '{00021401-0000-0000-C000-000000000046}', p 0, i 1, g '{0000010b-0000-0000-C000-000000000046}', *p .r1) i .r2"
  IntCmp $2 0 +3
    StrCpy $0 "no shell link object ($2)"
    Goto done
  ; IPersistFile::Load(file, STGM_READWRITE)
  System::Call "$1->5(w r6, i 2) i .r2"
  IntCmp $2 0 +3
    StrCpy $0 "cannot load the shortcut ($2)"
    Goto release_link
  ; QueryInterface(IID_IPropertyStore)
  System::Call "$1->0(g '{886d8eeb-8cf2-4446-8d02-cdba1dbdcf99}', *p .r3) i .r2"
  IntCmp $2 0 +3
    StrCpy $0 "no property store ($2)"
    Goto release_link
  ; PROPERTYKEY {9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3}, 5
  System::Call "*(&g16 '{9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3}', i 5) p .r4"
  ; The string, then a PROPVARIANT (VT_LPWSTR = 31) pointing at it.
  System::Call "*(&w64 '${AUMID}') p .r5"
  System::Call "*(&i2 31, &i2 0, &i2 0, &i2 0, p r5, p 0) p .r2"
  ; IPropertyStore::SetValue, then Commit
  System::Call "$3->6(p r4, p r2) i .r6"
  System::Free $2
  System::Free $4
  System::Free $5
  IntCmp $6 0 +3
    StrCpy $0 "cannot set the AppUserModelID ($6)"
    Goto release_store
  System::Call "$3->7() i .r6"
  IntCmp $6 0 +3
    StrCpy $0 "cannot commit the AppUserModelID ($6)"
    Goto release_store
  ; IPersistFile::Save(NULL, TRUE): back to the file it was loaded from
  System::Call "$1->6(p 0, i 1) i .r6"
  IntCmp $6 0 +2
    StrCpy $0 "cannot save the shortcut ($6)"
  release_store:
    System::Call "$3->2()"
  release_link:
    System::Call "$1->2()"
  done:
  Pop $6
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Exch $0
FunctionEnd

Section "Install"
  ; An SSE Tray already running (an update) lets go of its files.
  nsExec::Exec '"$INSTDIR\ssetray.exe" quit'
  Pop $0
  SetOutPath "$INSTDIR"
  File "${BINARIES}\ssetray.exe"
  File "${BINARIES}\ssetray-window.exe"
  File /nonfatal "${BINARIES}\WebView2Loader.dll"
  File "${BINARIES}\icon.ico"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortCut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\ssetray.exe" "" "$INSTDIR\icon.ico"
  System::Call "ole32::CoInitialize(p 0)"
  Push "$SMPROGRAMS\${APP}.lnk"
  Call SetShortcutAppId
  Pop $0
  DetailPrint "Start-menu shortcut's AppUserModelID: $0"

  WriteRegStr HKCU "${AUMID_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${AUMID_KEY}" "IconUri" "$INSTDIR\icon.ico"

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\icon.ico"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1

  ; The window needs the WebView2 runtime: installed for the machine or
  ; for the user, or fetched now.
  ReadRegStr $0 HKLM "${WEBVIEW2_KEY}" "pv"
  StrCmp $0 "" 0 webview2_found
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}" "pv"
  StrCmp $0 "" 0 webview2_found
  ReadRegStr $0 HKCU "${WEBVIEW2_KEY}" "pv"
  StrCmp $0 "" 0 webview2_found
  DetailPrint "Fetching the WebView2 runtime the window needs..."
  nsExec::ExecToLog '"$SYSDIR\curl.exe" -fsSL -o "$TEMP\MicrosoftEdgeWebview2Setup.exe" "${WEBVIEW2_BOOTSTRAPPER}"'
  Pop $0
  StrCmp $0 "0" 0 webview2_failed
  ExecWait '"$TEMP\MicrosoftEdgeWebview2Setup.exe" /silent /install' $0
  Delete "$TEMP\MicrosoftEdgeWebview2Setup.exe"
  StrCmp $0 "0" webview2_found webview2_failed
  webview2_failed:
    DetailPrint "The WebView2 runtime could not be installed ($0): the tray works; for the window, install it from https://developer.microsoft.com/microsoft-edge/webview2/"
    Goto webview2_done
  webview2_found:
    DetailPrint "WebView2 runtime: $0"
  webview2_done:
SectionEnd

Section "Uninstall"
  nsExec::Exec '"$INSTDIR\ssetray.exe" quit'
  Pop $0
  ; The autostart value, when it is the one the app wrote.
  ReadRegStr $0 HKCU "${RUN_KEY}" "${APP}"
  StrCmp $0 '"$INSTDIR\ssetray.exe" --hidden' 0 +2
    DeleteRegValue HKCU "${RUN_KEY}" "${APP}"
  Delete "$SMPROGRAMS\${APP}.lnk"
  Delete "$INSTDIR\ssetray.exe"
  Delete "$INSTDIR\ssetray-window.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\icon.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${AUMID_KEY}"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd
