// The vault holding every secret the app reads. Authorization is Azure RBAC (no
// access policies): the app's identity may read secret values, the named admin may
// write them, the CI principal may only list their names (to refuse a deploy while
// a referenced secret is missing). No secret value is ever set by this template.
param name string
param location string
param tags object
param appPrincipalId string
param adminPrincipalId string
param adminPrincipalType string
param deployerPrincipalId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: no VNet: Key Vault references are resolved over the public endpoint, so the firewall default must allow; every read is authorised by RBAC.
  // checkov:skip=CKV_AZURE_189: same reason: public network access stays enabled until the app gets VNet integration and a private endpoint.
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // A deleted vault (and its secrets) stays recoverable for 90 days and cannot be
    // purged early; the price is that its name stays taken for that time.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      // The Flex Consumption app has no VNet here: Key Vault references are
      // resolved over the public endpoint, authorised by RBAC alone.
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var secretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var reader = '21090545-7ca7-4776-b22c-e363652d74d2' // metadata only, never values

resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, secretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource adminSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  name: guid(vault.id, adminPrincipalId, secretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsOfficer)
    principalId: adminPrincipalId
    principalType: adminPrincipalType
  }
}

resource deployerReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, reader)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', reader)
    principalId: deployerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name
