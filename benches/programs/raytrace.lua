local function v(x, y, z) return {x = x, y = y, z = z} end
local function add(a, b) return v(a.x + b.x, a.y + b.y, a.z + b.z) end
local function sub(a, b) return v(a.x - b.x, a.y - b.y, a.z - b.z) end
local function scale(a, s) return v(a.x * s, a.y * s, a.z * s) end
local function dot(a, b) return a.x * b.x + a.y * b.y + a.z * b.z end
local function norm(a) return scale(a, 1.0 / math.sqrt(dot(a, a))) end
local spheres = {
  {center = v(0.0, -1.0, 3.0), radius = 1.0, shade = 0.9},
  {center = v(2.0, 0.0, 4.0), radius = 1.0, shade = 0.6},
  {center = v(-2.0, 0.0, 4.0), radius = 1.0, shade = 0.75},
  {center = v(0.0, -5001.0, 0.0), radius = 5000.0, shade = 0.5},
}
local light = norm(v(1.0, 1.0, -1.0))
local function hit(origin, dir, s)
  local oc = sub(origin, s.center)
  local b = dot(oc, dir)
  local c = dot(oc, oc) - s.radius * s.radius
  local disc = b * b - c
  if disc < 0.0 then return -1.0 end
  return -b - math.sqrt(disc)
end
local function trace(origin, dir)
  local nearest = 1e30
  local found = nil
  for _, s in ipairs(spheres) do
    local t = hit(origin, dir, s)
    if t > 0.001 and t < nearest then nearest = t; found = s end
  end
  if found == nil then return 0.1 end
  local point = add(origin, scale(dir, nearest))
  local normal = norm(sub(point, found.center))
  local lit = dot(normal, light)
  if lit < 0.0 then lit = 0.0 end
  for _, s in ipairs(spheres) do
    if s ~= found and hit(point, light, s) > 0.001 then lit = lit * 0.3 end
  end
  return found.shade * (0.2 + 0.8 * lit)
end
local width = 320
local height = 240
local eye = v(0.0, 0.0, -1.0)
local checksum = 0
for y = 0, height - 1 do
  for x = 0, width - 1 do
    local dir = norm(v((x - width / 2) / height, (height / 2 - y) / height, 1.0))
    checksum = checksum + math.floor(trace(eye, dir) * 255.0)
  end
end
print(checksum)
