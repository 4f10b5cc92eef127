; Inno Setup 6 script: ParticleGUI-<version>-Setup.exe from the PyInstaller folder dist\ParticleGUI.
; Built by `python packaging/build.py --installer`, which passes the defines below:
;   iscc /DAppVersion=0.1.0 /DBundleDir=<repo>\dist\ParticleGUI /DOutputDir=<repo>\dist packaging\windows\particle_gui.iss
; Per-user install by default (no administrator rights needed); the wizard offers all users, and so
; does the command line: Setup.exe /VERYSILENT /ALLUSERS (packaging/wine/build.sh installs that way).

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z (packaging/build.py does)
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\ParticleGUI"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "Particle GUI"
#define AppExe "ParticleGUI.exe"
#define ProgId "ParticleGUI.Image"

[Setup]
; A fixed AppId keeps upgrades and the uninstaller tied to one product: never change it.
AppId={{6F0B8E52-3C1D-4B7A-9E2F-5A1D0C7B9E34}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=particle_gui contributors
DefaultDirName={autopf}\ParticleGUI
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=ParticleGUI-{#AppVersion}-Setup
SetupIconFile=..\..\resources\particle_gui.ico
UninstallDisplayIcon={app}\{#AppExe}
LicenseFile=..\NOTICE.txt
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "associatetif"; Description: "Offer {#AppName} in ""Open with"" for .tif and .tiff images"; GroupDescription: "File types:"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "..\NOTICE.txt"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\{#AppName} (sample image)"; Filename: "{app}\{#AppExe}"; Parameters: """{app}\sample_data\synthetic_zeiss_sem.tif"""
Name: "{group}\Licences"; Filename: "{app}\NOTICE.txt"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; "Open with" entries only: the user's default program for .tif files is left alone.
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "Microscope image"; Flags: uninsdeletekey; Tasks: associatetif
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: associatetif
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: associatetif
Root: HKA; Subkey: "Software\Classes\.tif\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associatetif
Root: HKA; Subkey: "Software\Classes\.tiff\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associatetif
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tif"; ValueData: ""; Flags: uninsdeletekey; Tasks: associatetif
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tiff"; ValueData: ""; Tasks: associatetif

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
