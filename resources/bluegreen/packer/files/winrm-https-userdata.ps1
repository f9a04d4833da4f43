<powershell>
# bluegreen bake, windows template: user data that enables WinRM over HTTPS
# (port 5986) with a self-signed certificate, so Packer's WinRM communicator
# never sends credentials in clear text. Plain HTTP WinRM is not opened.
$ErrorActionPreference = 'Stop'
Set-ExecutionPolicy Unrestricted -Scope LocalMachine -Force
winrm quickconfig -quiet -force
$cert = New-SelfSignedCertificate -DnsName $env:COMPUTERNAME -CertStoreLocation Cert:\LocalMachine\My
Get-ChildItem WSMan:\localhost\Listener | Where-Object { $_.Keys -contains 'Transport=HTTP' } | Remove-Item -Recurse -Force
New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * -CertificateThumbPrint $cert.Thumbprint -Force
Set-Item WSMan:\localhost\Service\Auth\Basic -Value $true
Set-Item WSMan:\localhost\Service\AllowUnencrypted -Value $false
Set-Item WSMan:\localhost\MaxTimeoutms -Value 1800000
New-NetFirewallRule -DisplayName 'WinRM HTTPS (bluegreen bake)' -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow
Restart-Service WinRM
</powershell>
