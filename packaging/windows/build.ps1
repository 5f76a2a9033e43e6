<#
.SYNOPSIS
  Builds Wardview's MSI on Windows: PyInstaller onedir, frozen self-test, WiX v4+ (wix convert, wix build),
  ICE validation, and optional code signing with the trust's certificate.

.DESCRIPTION
  Needs: Python 3.11 x64 with `pip install -e .[packaging]` in -Python's environment; the WiX .NET tool
  (`dotnet tool install --global wix`, v4 or later); for -CertificateThumbprint, signtool from the Windows
  SDK and the code-signing certificate in the user's or machine's certificate store.
  Output: dist\Wardview-<version>-x64.msi. wardview.wxs stays in WiX v3 syntax (Linux CI builds it with
  wixl); this script converts a copy. CI cannot run this script: keep it short.

.EXAMPLE
  pwsh -File packaging\windows\build.ps1
  pwsh -File packaging\windows\build.ps1 -CertificateThumbprint 0123456789ABCDEF0123456789ABCDEF01234567
#>
param(
  [string]$Python = ".venv\Scripts\python.exe",
  [string]$CertificateThumbprint = "",
  [string]$TimestampUrl = "http://timestamp.digicert.com"
)
$ErrorActionPreference = "Stop"
Set-Location (Resolve-Path "$PSScriptRoot\..\..")

function Invoke-Checked([string]$what, [scriptblock]$command) {
  & $command
  if ($LASTEXITCODE -ne 0) { throw "$what failed (exit $LASTEXITCODE)" }
}

function Invoke-Signing([string[]]$files) {
  if (-not $CertificateThumbprint) { return }
  Invoke-Checked "signing" { signtool sign /sha1 $CertificateThumbprint /fd SHA256 /tr $TimestampUrl /td SHA256 $files }
}

$version = (& $Python -c "import viewer; print(viewer.__version__)").Trim()
Invoke-Checked "PyInstaller" { & $Python -m PyInstaller --noconfirm --clean packaging\wardview.spec }
Invoke-Checked "the frozen self-test" { dist\wardview\wardview-cli.exe --self-test }
Invoke-Signing @("dist\wardview\wardview.exe", "dist\wardview\wardview-cli.exe")

# The payload: every file of the onedir but the two executables wardview.wxs declares, as a WiX v3
# fragment like the one wixl-heat makes on Linux (component group CG.Payload; ids from path hashes).
$root = (Resolve-Path "dist\wardview").Path
$md5 = [Security.Cryptography.MD5]::Create()
$refs = [Collections.Generic.List[string]]::new()
function Get-Id([string]$prefix, [string]$relative) {
  $prefix + ([BitConverter]::ToString($md5.ComputeHash([Text.Encoding]::UTF8.GetBytes($relative))) -replace "-", "")
}
function Get-Tree([string]$path, [string]$indent) {
  foreach ($file in Get-ChildItem -LiteralPath $path -File) {
    $relative = $file.FullName.Substring($root.Length + 1)
    if ($relative -in @("wardview.exe", "wardview-cli.exe")) { continue }
    $component = Get-Id "c" $relative
    $refs.Add($component)
    $source = [Security.SecurityElement]::Escape($file.FullName)
    "$indent<Component Id=`"$component`" Guid=`"*`" Win64=`"yes`"><File Id=`"$(Get-Id 'f' $relative)`" Source=`"$source`" KeyPath=`"yes`"/></Component>"
  }
  foreach ($dir in Get-ChildItem -LiteralPath $path -Directory) {
    $relative = $dir.FullName.Substring($root.Length + 1)
    "$indent<Directory Id=`"$(Get-Id 'd' $relative)`" Name=`"$([Security.SecurityElement]::Escape($dir.Name))`">"
    Get-Tree $dir.FullName "$indent  "
    "$indent</Directory>"
  }
}
$work = "build\msi"
New-Item -ItemType Directory -Force $work | Out-Null
$tree = (Get-Tree $root "      ") -join "`n"
$refList = ($refs | ForEach-Object { "      <ComponentRef Id=`"$_`"/>" }) -join "`n"
@"
<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Fragment>
    <DirectoryRef Id="INSTALLDIR">
$tree
    </DirectoryRef>
  </Fragment>
  <Fragment>
    <ComponentGroup Id="CG.Payload">
$refList
    </ComponentGroup>
  </Fragment>
</Wix>
"@ | Set-Content -Encoding utf8 "$work\payload.wxs"
Copy-Item packaging\windows\wardview.wxs "$work\wardview.wxs" -Force

# WiX v4+ syntax from the v3 sources (wix convert rewrites in place and exits non-zero when it changed
# something, so its exit code is not an error here), then build, then the ICE checks.
wix convert "$work\wardview.wxs" "$work\payload.wxs" | Out-Host
$msi = "dist\Wardview-$version-x64.msi"
Invoke-Checked "wix build" {
  wix build -arch x64 -d "Version=$version" -d "SourceDir=$root" -d "ExeSuffix=.exe" -d "Win64=yes" `
    -o $msi "$work\wardview.wxs" "$work\payload.wxs"
}
Invoke-Checked "ICE validation" { wix msi validate $msi }
Invoke-Signing @($msi)
Write-Host "built $msi ($([math]::Round((Get-Item $msi).Length / 1MB)) MB)"
