# IIS + .NET example (bluegreen bake, windows template): installs IIS and
# ASP.NET 4.x, then the web application from the artifact (a zip of the
# published site) as its own site and application pool.
# SITE_NAME, SITE_PORT, APP_POOL_RUNTIME ('v4.0', or '' for .NET Core), ARTIFACT_DIR.
$ErrorActionPreference = 'Stop'
Install-WindowsFeature -Name Web-Server, Web-Asp-Net45, Web-Mgmt-Tools | Out-Null
Import-Module WebAdministration
$site = $env:SITE_NAME
$port = [int]$env:SITE_PORT
$root = Join-Path 'C:\inetpub' $site
$zip = Get-ChildItem -Path $env:ARTIFACT_DIR -Filter *.zip | Select-Object -First 1
if (-not $zip) { throw "install-iis-app: no .zip artifact in $env:ARTIFACT_DIR" }
if (Test-Path $root) { Remove-Item -Recurse -Force $root }
Expand-Archive -Path $zip.FullName -DestinationPath $root
if (-not (Test-Path "IIS:\AppPools\$site")) { New-WebAppPool -Name $site | Out-Null }
Set-ItemProperty "IIS:\AppPools\$site" -Name managedRuntimeVersion -Value $env:APP_POOL_RUNTIME
if ($port -eq 80 -and (Get-Website -Name 'Default Web Site')) { Remove-Website -Name 'Default Web Site' }
if (Get-Website -Name $site) { Remove-Website -Name $site }
New-Website -Name $site -Port $port -PhysicalPath $root -ApplicationPool $site | Out-Null
New-NetFirewallRule -DisplayName "HTTP $port ($site)" -Direction Inbound -Protocol TCP -LocalPort $port -Action Allow | Out-Null
Write-Output "install-iis-app: $site on port $port from $($zip.Name)"
