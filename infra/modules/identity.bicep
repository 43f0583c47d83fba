// The app's one identity. User-assigned rather than system-assigned so that it
// exists, with its role assignments, before the Function App is created: the host
// can then reach storage and Key Vault on its very first start.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
