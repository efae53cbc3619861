// The window's script. Server text is only ever set with textContent.
const status = document.getElementById("status");
status.textContent = "SSE Tray window";
