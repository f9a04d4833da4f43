# Fetches the build artifact onto the image (bluegreen bake, windows template).
# ARTIFACT_URL: s3://bucket/key (AWS Tools for PowerShell, on AWS Windows AMIs)
# or https://... ; ARTIFACT_DIR: where to put it.
$ErrorActionPreference = 'Stop'
$url = $env:ARTIFACT_URL
if (-not $url) { throw 'ARTIFACT_URL is not set' }
$dir = if ($env:ARTIFACT_DIR) { $env:ARTIFACT_DIR } else { 'C:\bluegreen\artifact' }
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$name = [System.IO.Path]::GetFileName(($url -split '\?')[0])
$dest = Join-Path $dir $name
if ($url -like 's3://*') {
  $bucket, $key = $url.Substring(5) -split '/', 2
  Read-S3Object -BucketName $bucket -Key $key -File $dest | Out-Null
} elseif ($url -like 'https://*' -or $url -like 'http://*') {
  [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
  Invoke-WebRequest -UseBasicParsing -Uri $url -OutFile $dest
} else {
  throw 'fetch-artifact: unsupported URL scheme'
}
Write-Output "fetch-artifact: $dest ($((Get-Item $dest).Length) bytes)"
