// The Functions host's storage account (AzureWebJobsStorage: timer leases, function
// keys, the monitor's shard queue), the container Flex Consumption deploys the app
// package from, and `releases`, where the deploy workflow keeps the packages it has
// verified so that it can roll back to the last good one.
//
// Shared keys are disabled: every client (the host, the app, CI, operators with
// `--auth-mode login`) authenticates with Entra ID and a data-plane role.
param name string
param location string
param tags object
param appPrincipalId string
param deployerPrincipalId string

@allowed(['Standard_LRS', 'Standard_ZRS'])
param skuName string = 'Standard_LRS'

var deploymentContainerName = 'deployment-package'
var releasesContainerName = 'releases'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: Flex Consumption without VNet integration reaches storage over its public endpoint; access is Entra-only (shared keys off). Private endpoints come with VNet integration.
  // checkov:skip=CKV_AZURE_59: same reason: the public endpoint stays enabled, anonymous blob access and shared keys are off.
  // checkov:skip=CKV_AZURE_206: the account holds host state (leases, keys, queue) and release packages CI can rebuild; LRS is enough, skuName allows Standard_ZRS where the region has it.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: skuName }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      // Flex Consumption without VNet integration reaches storage over public
      // endpoints; access is still Entra-only (no keys, no SAS from keys).
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // A package overwritten or deleted by mistake stays recoverable for a week.
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource releasesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: releasesContainerName
  properties: { publicAccess: 'None' }
}

// What the Functions host needs on AzureWebJobsStorage through an identity
// (Microsoft's "Connecting to host storage with an identity"): Blob Data Owner for
// leases, keys and the deployment package; Queue Data Contributor for the queue
// trigger and the monitor's enqueueing (it creates the queue and its -poison twin);
// Table Data Contributor for the host's diagnostic events.
var appRoles = {
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource appRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in items(appRoles): {
    name: guid(account.id, appPrincipalId, role.value)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.value)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// CI writes and reads release packages, in that container only.
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource deployerReleases 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(releasesContainer.id, deployerPrincipalId, blobDataContributor)
  scope: releasesContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
    principalId: deployerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output deploymentContainerName string = deploymentContainer.name
output releasesContainerName string = releasesContainer.name
