-- untracked_calls: per profile, the calls made with credentials of issuances in the window that
-- were not tracked (the --with-activity column of session-compliance).
SELECT i.profile, count(a.event_id) AS untracked_calls
FROM issuances i
JOIN activity a ON a.issuance_event_id = i.event_id
WHERE i.class <> 'tracked'
  AND i.event_time >= $since AND i.event_time < $until
  AND ($profile = '' OR i.profile = $profile)
GROUP BY i.profile
ORDER BY i.profile;
